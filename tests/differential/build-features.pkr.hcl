# Provisioner meta-arguments, post-processor only/except,
# two build blocks. (error-cleanup-provisioner in HCL2 came after Packer 1.6.6.)
source "null" "base" {
  communicator = "none"
}
source "file" "note" {
  content = "note"
  target  = "note.txt"
}
build {
  # (A `source "source.null.base" { name = "renamed" }` addition is left out: Packer 1.6.6's
  # inspect lists it under the original name, Kiln under the new one, as later Packers do.)
  sources = ["source.null.base"]
  provisioner "shell-local" {
    pause_before = "1s"
    max_retries  = 2
    timeout      = "5m"
    inline       = ["echo ${source.name}"]
  }
  provisioner "shell-local" {
    override = {
      "null.base" = { inline = ["echo overridden"] }
    }
    inline = ["echo default"]
  }
  post-processor "manifest" {
    only = ["null.base"]
  }
  post-processor "shell-local" {
    except = ["null.base"]
    inline = ["echo pp"]
  }
}
build {
  name    = "files"
  sources = ["source.file.note"]
  post-processor "checksum" {}
}
