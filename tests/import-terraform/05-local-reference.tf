# expect: a local value (local.*) is only known to Terraform
locals {
  namespace = "inferadb"
}

module "inferadb" {
  source    = "./modules/multi-region"
  regions   = [{ id = "us-west-1", is_primary = true, priority = 1, namespace = local.namespace }]
  tailscale = { enabled = false }
}
