variable "codes" {
  type    = list(number)
  default = null
}
variable "types" {
  type    = list(string)
  default = null
}
source "file" "out" {
  content = "x"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
  provisioner "shell-local" {
    inline           = ["echo ran > ran.txt"]
    valid_exit_codes = var.codes
    only             = null
    except           = null
  }
  post-processor "checksum" {
    checksum_types = var.types
    output         = "sum.txt"
  }
}
