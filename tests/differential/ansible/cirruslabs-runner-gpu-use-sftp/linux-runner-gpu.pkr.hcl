variable "vm_name" {
  type = string
}

# Reduced: the original tart-cli "tart" source (and the packer { required_plugins } block) is
# replaced by a null source with the same SSH credentials.
source "null" "tart" {
  ssh_host     = "192.0.2.10"
  ssh_username = "admin"
  ssh_password = "admin"
}

build {
  sources = ["source.null.tart"]

  provisioner "ansible" {
    playbook_file = "./playbook-gpu.yml"

    # scp command is only available after we install the openssh-client
    use_sftp = true
  }
}
