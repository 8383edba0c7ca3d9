-- What the optimizer needs beyond V23: Meta's own learning stage of each campaign's ad
-- set (`learning_stage_info.status`, read with every sync; Meta gives it only for active
-- ad sets on eligible accounts, so it may stay NULL and our edit log decides), and an
-- account-wide ceiling on the daily budgets the optimizer may raise an ad account's
-- campaigns to, together, in the account's currency.
ALTER TABLE campaigns
    ADD COLUMN meta_learning_stage TEXT CHECK (meta_learning_stage IN ('LEARNING', 'SUCCESS', 'FAIL')),
    ADD COLUMN meta_learning_stage_at TIMESTAMPTZ;
ALTER TABLE meta_ad_accounts
    ADD COLUMN optimizer_budget_cap NUMERIC(14, 2) CHECK (optimizer_budget_cap > 0);
