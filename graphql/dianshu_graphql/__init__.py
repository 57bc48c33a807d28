"""The GraphQL API over the Dianshu domain: schema by domain, dataloaders, permissions, and the
Starlette app (/graphql, /healthz, /readyz, /metrics)."""
