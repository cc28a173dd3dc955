"""The Slack surface: Bolt app, listeners per surface, Block Kit builders, notifications."""
