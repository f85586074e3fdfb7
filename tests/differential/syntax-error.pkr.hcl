source "null" "a" {
  communicator = "none"
build {
