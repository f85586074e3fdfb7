locals {
  users = { alice = { shell = "bash", groups = ["a", "b"] }, bob = { shell = "zsh", groups = [] } }
}
source "null" "n" {
  communicator = "none"
}
build {
  sources = ["source.null.n"]
  dynamic "provisioner" {
    for_each = setunion(["z", "y"], ["x", "z"])
    iterator = step
    labels   = ["shell-local"]
    content {
      inline = ["echo ${step.key}=${step.value} >> set.txt"]
    }
  }
  dynamic "provisioner" {
    for_each = local.users
    iterator = u
    labels   = ["shell-local"]
    content {
      environment_vars = ["NAME=${u.key}", "SHELL_NAME=${u.value.shell}", "GROUPS=${join(",", u.value.groups)}"]
      inline           = ["echo \"$NAME $SHELL_NAME [$GROUPS]\" >> users.txt"]
    }
  }
}
