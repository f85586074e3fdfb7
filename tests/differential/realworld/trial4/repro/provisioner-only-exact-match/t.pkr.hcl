source "null" "ubuntu" {
  communicator = "none"
}
build {
  sources = ["source.null.ubuntu"]
  provisioner "shell-local" {
    only   = ["source.null.ubuntu"] # as pai12345/Andromeda_MachineImaging writes it
    inline = ["echo P1-only-source-prefix"]
  }
  provisioner "shell-local" {
    only   = ["null.*"]
    inline = ["echo P2-only-glob"]
  }
  provisioner "shell-local" {
    only   = ["null.ubuntu"]
    inline = ["echo P3-only-exact"]
  }
  provisioner "shell-local" {
    except = ["source.null.ubuntu"]
    inline = ["echo P4-except-source-prefix"]
  }
  post-processor "shell-local" {
    only   = ["source.null.ubuntu"]
    inline = ["echo PP1-only-source-prefix"]
  }
}
