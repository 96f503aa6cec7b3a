# expect: module.inferadb.regions[0].priority: expected an integer, found the string "first"
module "inferadb" {
  source = "./modules/multi-region"
  regions = [
    {
      id         = "us-west-1"
      is_primary = true
      priority   = "first"
    }
  ]
  tailscale = { enabled = false }
}
