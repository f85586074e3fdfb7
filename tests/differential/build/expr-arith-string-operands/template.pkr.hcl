locals {
  s = "5"
}
source "file" "out" {
  content = "${local.s + 1} ${"2.5" * 2} ${"10" / "4"} ${-local.s} ${"0x10" == "16"}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
