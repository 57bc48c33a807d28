"""Who is asking: bearer-token identity, roles, tenant and hospital scope, tenant provisioning."""
