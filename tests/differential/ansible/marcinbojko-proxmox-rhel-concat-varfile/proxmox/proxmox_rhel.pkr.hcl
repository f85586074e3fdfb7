# Reduced: the original two proxmox-iso sources (chosen by var.use_efi) and the variables
# only they use are replaced by one null source.
variable "ansible_verbosity" {
  type    = list(string)
}

variable "ansible_extra_args" {
  type    = list(string)
}

source "null" "linux" {
  communicator = "none"
}

build {
  sources = [
    "source.null.linux"
  ]

  provisioner "ansible" {
    extra_arguments = concat("${var.ansible_extra_args}","${var.ansible_verbosity}")
    playbook_file   = "extra/playbooks/provision_rhel.yaml"
  }
}
