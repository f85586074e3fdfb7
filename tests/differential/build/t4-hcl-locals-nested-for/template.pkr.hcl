locals {
  envs  = ["dev", "prod"]
  apps  = { web = 80, api = 8080 }
  pairs = flatten([for e in local.envs : [for a, p in local.apps : { name = "${e}-${a}", port = p, env = e }]])
  byenv = { for p in local.pairs : p.env => p.name... }
  names = local.pairs[*].name
  ports = distinct([for p in local.pairs : p.port])
  first = [for p in local.pairs : p if p.port > 100][0].name
}
source "file" "out" {
  target  = "out.txt"
  content = "${jsonencode(local.pairs)}\n${jsonencode(local.byenv)}\n${jsonencode(local.names)}\n${jsonencode(local.ports)}\n${local.first}\n${jsonencode({ for k, v in local.byenv : upper(k) => length(v) })}\n"
}
build {
  sources = ["source.file.out"]
}
