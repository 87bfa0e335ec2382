-- Budgets ([[budgets]] in the config file) alert once per period and
-- threshold: what was alerted, so that a sync every half hour does not
-- alert again. A budget is named by its name (compared by its bytes).
CREATE TABLE IF NOT EXISTS budget_alerts (
  budget       TEXT NOT NULL,
  period_start TEXT NOT NULL,        -- the period's first instant, UTC
  threshold    REAL NOT NULL,        -- a share of the limit, such as 0.8
  spend        REAL NOT NULL,        -- the spend when it was alerted
  limit_amount REAL NOT NULL,
  alerted_at   TEXT NOT NULL,
  PRIMARY KEY (budget, period_start, threshold)
);
