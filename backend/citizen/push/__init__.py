"""Push: citizens' devices register (FCM tokens, Web Push subscriptions); notices fan out to them."""
