source "null" "n" { communicator = "none" }
build {
  name    = "graphdb-ami"
  sources = ["source.null.n"]
}
