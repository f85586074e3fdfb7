source "qemu" "bad" {
  iso_url      = "base.qcow2"
  iso_checksum = "none"
  disk_image   = true
  format       = "vmdk"
  ssh_username = "root"
  ssh_password = "x"
}
build {
  sources = ["source.qemu.bad"]
}
