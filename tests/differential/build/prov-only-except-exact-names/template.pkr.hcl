source "null" "ubuntu" {
  communicator = "none"
}
build {
  sources = ["source.null.ubuntu"]
  provisioner "shell-local" {
    only   = ["source.null.ubuntu"]
    inline = ["echo P1-only-source-prefix >> out.txt"]
  }
  provisioner "shell-local" {
    only   = ["null.*"]
    inline = ["echo P2-only-glob >> out.txt"]
  }
  provisioner "shell-local" {
    only   = ["null.ubuntu"]
    inline = ["echo P3-only-exact >> out.txt"]
  }
  provisioner "shell-local" {
    except = ["source.null.ubuntu"]
    inline = ["echo P4-except-source-prefix >> out.txt"]
  }
  post-processor "shell-local" {
    only   = ["source.null.ubuntu"]
    inline = ["echo PP1-only-source-prefix >> out.txt"]
  }
}
