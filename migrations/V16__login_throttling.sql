-- Login throttling, before anyone is authenticated. The app role reaches these tables
-- only through the functions below (SECURITY DEFINER); it cannot read or reset them.
--
-- Per account: every login attempt counts as a failure before the password is checked
-- (so attempts running at once cannot all slip through), and a success forgives them.
-- From the 5th consecutive failure on, the next attempt must wait 1 s, then 2, 4, ...
-- up to 15 minutes. The key is the normalised email's SHA-256, whether or not an
-- account has it, so throttling says nothing about which emails are registered.
CREATE TABLE login_failures (
    email_hash TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    blocked_until TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Per client IP, on every /v1/auth/* request: a fixed one-minute window.
CREATE TABLE auth_request_windows (
    ip INET NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ip, window_start)
);

-- Reserves one login attempt for the email: NULL when it may go ahead, else when the
-- account may be tried again.
CREATE FUNCTION auth_login_attempt(p_email_hash text) RETURNS timestamptz
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    f login_failures;
BEGIN
    INSERT INTO login_failures (email_hash) VALUES (p_email_hash) ON CONFLICT DO NOTHING;
    SELECT * INTO f FROM login_failures WHERE email_hash = p_email_hash FOR UPDATE;
    IF f.blocked_until > now() THEN
        RETURN f.blocked_until;
    END IF;
    UPDATE login_failures
       SET failures = f.failures + 1,
           last_attempt_at = now(),
           blocked_until = CASE WHEN f.failures + 1 >= 5
                                THEN now() + make_interval(secs => least(power(2, f.failures + 1 - 5), 900))
                           END
     WHERE email_hash = p_email_hash;
    RETURN NULL;
END
$$;

-- The password was right: the account's failures are forgiven.
CREATE FUNCTION auth_login_succeeded(p_email_hash text) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$ DELETE FROM login_failures WHERE email_hash = p_email_hash $$;

-- Counts one request of `p_ip` in the current minute: NULL while within `p_limit`, else
-- when the next window opens. Old windows are dropped along the way.
CREATE FUNCTION auth_ip_request(p_ip inet, p_limit integer) RETURNS timestamptz
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    w timestamptz := date_trunc('minute', now());
    n integer;
BEGIN
    INSERT INTO auth_request_windows AS a (ip, window_start, requests) VALUES (p_ip, w, 1)
    ON CONFLICT (ip, window_start) DO UPDATE SET requests = a.requests + 1
    RETURNING requests INTO n;
    IF random() < 0.01 THEN
        DELETE FROM auth_request_windows WHERE window_start < w - interval '1 hour';
    END IF;
    RETURN CASE WHEN n > p_limit THEN w + interval '1 minute' END;
END
$$;

REVOKE ALL ON FUNCTION auth_login_attempt(text), auth_login_succeeded(text), auth_ip_request(inet, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_login_attempt(text), auth_login_succeeded(text), auth_ip_request(inet, integer) TO adpilot_app;
