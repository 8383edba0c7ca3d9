-- A user has at most one open Razorpay checkout (a subscription created and not yet
-- paid): a new checkout cancels the earlier one at Razorpay first, and two checkouts
-- started at once cannot both be kept, so nobody ends up paying twice.
CREATE UNIQUE INDEX idx_subscriptions_one_open_checkout ON subscriptions (user_id)
    WHERE status = 'created' AND NOT is_current;
