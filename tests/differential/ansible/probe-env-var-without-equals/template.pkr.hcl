# Not a real-world template: a probe. An ansible_env_vars entry without "=".
source "null" "n" {
  communicator = "none"
}
build {
  sources = ["source.null.n"]
  provisioner "ansible" {
    playbook_file    = "pb.yml"
    ansible_env_vars = ["ANSIBLE_NOCOLOR"]
  }
}
