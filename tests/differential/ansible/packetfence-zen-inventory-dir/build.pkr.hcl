# Reduced: the original virtualbox-iso/vmware-iso sources are replaced by a null source;
# the variables the provisioner uses are declared with placeholder defaults.
variable "provisioner_dir" {
  type    = string
  default = "provisioner"
}
variable "vm_name" {
  type    = string
  default = "pfzen"
}
variable "ansible_pfservers_group" {
  type    = string
  default = "pfservers"
}
variable "pf_version" {
  type    = string
  default = "11.0"
}

source "null" "centos-7" {
  communicator = "none"
}

build {
  sources = [
    "source.null.centos-7",
  ]
  provisioner "ansible" {
    playbook_file = "${var.provisioner_dir}/site.yml"
    host_alias = "${var.vm_name}"
    groups = [
      "${var.ansible_pfservers_group}",
    ]
    ansible_env_vars = [
      "PF_MINOR_RELEASE=${var.pf_version}"
    ]
    inventory_directory = "${var.provisioner_dir}/inventory"
    galaxy_file = "${var.provisioner_dir}/requirements.yml"
    galaxy_force_install = true
    # temp
    keep_inventory_file = true
  }
}
