variable "settings" {
  type    = map(string)
  default = { B_VAR = "two words", A_VAR = "1", C_VAR = "x=y" }
}
source "null" "box" {
  communicator = "none"
}
build {
  sources = ["source.null.box"]
  provisioner "shell-local" {
    environment_vars = concat([for k, v in var.settings : "${k}=${v}"], ["BUILD=${source.name}"])
    inline           = ["env | grep -E '^(A_VAR|B_VAR|C_VAR|BUILD|PACKER_BUILD_NAME|PACKER_BUILDER_TYPE)=' | sort > env.txt"]
  }
}
