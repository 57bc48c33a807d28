"""The settlement changes that other domains' jobs follow (jobs.events.occurred; JobKind.follows
names them), here apart from the modules that make them so a follower imports the names alone."""

# A settlement run published (runs/publish.py; also its audit action). Parameters: kind, year,
# month, ledger.
PUBLISHED = "settlement.published"
# A new policy version, a city's defaults or a region's own (runs/policies.py; also its audit
# action). Parameters: year, ledger.
POLICY_CHANGED = "policy.changed"
