package core

// WakeOutbox lets tests make the sender look at the outbox now, after
// moving the injected clock, instead of waiting for its next poll.
func (s *Station) WakeOutbox() { s.wakeOutbox() }
