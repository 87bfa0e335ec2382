import LosslessJSON

enum Fixtures {
    /// A session with every event type, an unknown type, an untyped event, a
    /// call with no result, NUL and emoji in text, a large integer and unknown fields.
    static let richSession = #"""
    {"session_id":"ses-rich","last_updated_at":"2026-04-22T12:34:41.342245","generated_title":"Q3 renewal clause?",
     "index_ids":["idx-a","idx-b"],"shared_access":"read_only","future_field":{"n":9007199254740993},
     "job_metadata":{"duration_ms":1200.5,"error":null,"export_config_ids":null,"is_error":false,
       "total_input_tokens":300,"total_output_tokens":40,"turns":2,"new_job_field":true},
     "events":[
      {"content":"What does the Q3 renewal clause say?","type":"user_input"},
      {"content":"Let me look","type":"thinking_delta"},
      {"content":"Let me look it up.","type":"thinking"},
      {"type":"tool_call","call_id":"c1","name":"search","arguments":{"query":"renewal clause","top_k":5,"filters":{"year":[2026],"exact":true,"x":null}}},
      {"type":"tool_result","call_id":"c1","name":"search","result":[{"text":"The renewal clause auto-renews.","score":0.91}],"image_attachment":{"attachment_name":"page-3.png","source_id":"src-9"}},
      {"type":"tool_call","call_id":"c2","name":"lookup","arguments":{}},
      {"content":"It auto","type":"text_delta"},
      {"content":"It auto-renews 👩‍👩‍👧 yearly\u0000.","type":"text"},
      {"type":"citation","ref":"src-9","content":"unknown type"},
      {"type":"stop","error":null,"is_error":false,"usage":{"duration_ms":800,"total_input_tokens":100,"total_output_tokens":20,"turns":1},"skipped_index_ids":["idx-b"]},
      {"content":"And the termination clause?","type":"user_input"},
      {"call_id":"c3","name":"search","arguments":{"query":"termination"}},
      {"call_id":"c3","name":"search","result":"no match"},
      {"content":"orphan field only"},
      {"error":"model overloaded","is_error":true,"usage":{"duration_ms":400,"total_input_tokens":null,"total_output_tokens":null,"turns":1}}
     ]}
    """#

    static func session(id: String, updated: String, events: [String]) -> String {
        #"{"session_id":"\#(id)","last_updated_at":"\#(updated)","generated_title":"t \#(id)","index_ids":null,"job_metadata":null,"events":[\#(events.joined(separator: ","))]}"#
    }

    static func userInput(_ text: String) -> String { #"{"type":"user_input","content":"\#(text)"}"# }
    static func text(_ text: String) -> String { #"{"type":"text","content":"\#(text)"}"# }
    static func stop(input: Int, output: Int) -> String {
        #"{"type":"stop","error":null,"is_error":false,"usage":{"duration_ms":10,"total_input_tokens":\#(input),"total_output_tokens":\#(output),"turns":1}}"#
    }
}
