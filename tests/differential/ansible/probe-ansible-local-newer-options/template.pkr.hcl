# Not a real-world template: a probe. ansible-local options of the current plugin
# (galaxy_roles_path) that Packer 1.6.6 does not know.
source "null" "n" {
  communicator = "none"
}
build {
  sources = ["source.null.n"]
  provisioner "ansible-local" {
    playbook_file     = "pb.yml"
    inventory_groups  = ["web", "db"]
    galaxy_roles_path = "/tmp/roles"
  }
}
