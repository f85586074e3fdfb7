# kiln validate .   (no network needed: validate does not run data sources)
data "http" "feed" {
  url = "https://example.invalid/current.json"
}

locals {
  packages = jsondecode(data.http.feed.body).syspkgs
  branch   = data.http.feed.body == "x" ? "yes" : "no"
  ver      = try(jsondecode(data.http.feed.body).version, "fallback")
}

source "file" "x" {
  content = "${local.packages["caddy"].version} ${local.branch} ${local.ver}"
  target  = "out.txt"
}

build {
  sources = ["source.file.x"]
}
