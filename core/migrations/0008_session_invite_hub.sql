-- The relay hub a prepared session's newest invitation links to (its
-- https://HOST[:PORT]); '' when the link goes to this station directly.
-- Leaving that hub would leave the link pointing at a hub that no longer
-- reaches this station, so LeaveHub counts these (core/hubleave.go).
-- Sessions prepared before this migration keep '' (not counted, as before):
-- which hub their link named is not stored anywhere (links are composed
-- from the hub joined at the time), and an invitation lasts at most 24
-- hours, so the gap closes by itself a day after the upgrade.
ALTER TABLE sessions ADD COLUMN invite_hub TEXT NOT NULL DEFAULT '';
