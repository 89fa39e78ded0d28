-- The relay hub a PC paired through (its https://HOST[:PORT]); '' when it
-- paired directly. Kept with the session, not the live channel, so the
-- Computers page says it of offline PCs too, and leaving a hub can find the
-- open sessions it would strand.
ALTER TABLE sessions ADD COLUMN via_hub TEXT NOT NULL DEFAULT '';
