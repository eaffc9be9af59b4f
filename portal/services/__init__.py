"""Business rules: views parse requests and call these; these never see HTTP forms."""
