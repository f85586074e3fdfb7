source "qemu" "q" {
  iso_url              = "x.iso"
  iso_checksum         = "none"
  iso_target_extension = "iso"
  ssh_username         = "root"
}
build { sources = ["source.qemu.q"] }
