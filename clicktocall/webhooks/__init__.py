"""What the telephony provider calls back: TwiML for the call, and status updates."""
