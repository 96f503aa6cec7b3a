# expect: unknown key `replica_count`
module "inferadb" {
  source    = "./modules/multi-region"
  regions   = [{ id = "us-west-1", is_primary = true, priority = 1 }]
  tailscale = { enabled = false }

  replica_count = 3
}
