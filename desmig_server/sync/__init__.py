"""The sync protocol's server side: push apply (exactly once, field merge) and the pull feed."""
