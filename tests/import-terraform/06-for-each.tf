# expect: `for_each` on the module
module "inferadb" {
  source    = "./modules/multi-region"
  for_each  = toset(["blue", "green"])
  regions   = [{ id = "us-west-1", is_primary = true, priority = 1 }]
  tailscale = { enabled = false }
}
