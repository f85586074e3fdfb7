# Reduced: the original googlecompute source (communicator winrm) is replaced by a null
# source; the variables the provisioner uses are declared with placeholder defaults. The
# provisioner's `only` is changed from "googlecompute.island-windows-251" to the null
# source's name, so that the provisioner still applies to the build.
variable "packer_username" {
  type    = string
  default = "packer_user"
}
variable "packer_user_password" {
  type    = string
  default = "Passw0rd"
}
variable "authorized_keys" {
  type    = string
  default = "ssh-ed25519 AAAA example"
}

source "null" "island-windows-251" {
  communicator = "none"
}

build {
  sources = [
    "source.null.island-windows-251",
  ]
  provisioner "ansible" {
    only             = ["null.island-windows-251"]
    use_proxy        = false
    user             = "${var.packer_username}"
    playbook_file    = "./packer/setup_island_windows_251.yml"
    ansible_env_vars = ["ANSIBLE_HOST_KEY_CHECKING=False"]
    extra_arguments  = [
      "-e", "ansible_winrm_transport=ntlm ansible_winrm_server_cert_validation=ignore",
      "-e", "ansible_password=${var.packer_user_password}",
      "-e", "authorized_keys=${var.authorized_keys}",
      "-vvv"
    ]
  }
}
