import Foundation
import LlamaCloudClient
import Testing

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxRetries: 5)

    @Test func retriesTheSDKsStatusesUnlessTheServerSaysOtherwise() {
        for status in [408, 409, 429, 500, 502, 503, 504] { #expect(policy.shouldRetry(status: status, headers: [:])) }
        for status in [400, 404, 422] { #expect(!policy.shouldRetry(status: status, headers: [:])) }
        #expect(!policy.shouldRetry(status: 503, headers: ["x-should-retry": "false"]))
        #expect(policy.shouldRetry(status: 400, headers: ["x-should-retry": "true"]))
        #expect(!policy.shouldRetry(status: 401, headers: ["x-should-retry": "true"]))
        #expect(!policy.shouldRetry(status: 403, headers: [:]))
    }

    @Test func waitsAsTheServerAsksWhenSensible() {
        #expect(policy.delay(attempt: 0, headers: ["retry-after-ms": "250"]) == 0.25)
        #expect(policy.delay(attempt: 0, headers: ["retry-after-ms": "250", "retry-after": "9"]) == 0.25)
        #expect(policy.delay(attempt: 0, headers: ["retry-after": "3"]) == 3)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(policy.delay(attempt: 0, headers: ["retry-after": "Tue, 14 Nov 2023 22:13:30 GMT"], now: now) == 10)
        // Out of range: back off instead.
        #expect(policy.delay(attempt: 0, headers: ["retry-after": "3600"], jitter: 0) == 0.5)
    }

    @Test func backsOffExponentiallyWithCappedJitter() {
        #expect(policy.delay(attempt: 0, headers: [:], jitter: 0) == 0.5)
        #expect(policy.delay(attempt: 1, headers: [:], jitter: 0) == 1)
        #expect(policy.delay(attempt: 3, headers: [:], jitter: 0) == 4)
        #expect(policy.delay(attempt: 6, headers: [:], jitter: 0) == 8)
        #expect(policy.delay(attempt: 6, headers: [:], jitter: 0.999) > 6)
        #expect(policy.delay(attempt: 2, headers: [:], jitter: 1) == 1.5)
    }
}
