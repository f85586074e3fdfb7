locals {
  steps = ["one", "two"]
}
source "null" "n" {
  communicator = "none"
}
build {
  sources = ["source.null.n"]
  dynamic "provisioner" {
    for_each = local.steps
    labels   = ["shell-local"]
    content {
      inline = ["echo ${provisioner.value} >> steps.txt"]
    }
  }
}
