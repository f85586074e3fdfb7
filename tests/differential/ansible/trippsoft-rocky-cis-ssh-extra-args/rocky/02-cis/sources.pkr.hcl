# Reduced: the original qemu / hyperv-vmcx / vmware-vmx sources (in other files) are replaced
# by one null source; local.project_directory (defined elsewhere in the repository) is
# declared here.
locals {
  project_directory = "${path.root}/../.."
}

source "null" "qemu" {
  ssh_host     = "192.0.2.10"
  ssh_username = "vagrant"
  ssh_password = "vagrant"
}
