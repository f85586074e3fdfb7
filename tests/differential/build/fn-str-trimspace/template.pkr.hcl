source "file" "out" {
  target  = "out.txt"
  content = <<EOT
trimspace("  a b \n\t") = [${trimspace("  a b \n\t")}]
trimspace("\u00a0x\u3000") = [${trimspace("\u00a0x\u3000")}]
trimspace("\u200bx") = [${trimspace("\u200bx")}]
trimspace("") = [${trimspace("")}]
trimspace("\u0085y\u2028") = [${trimspace("\u0085y\u2028")}]
trimspace("\r\n\u000b\u000c z") = [${trimspace("\r\n\u000b\u000c z")}]
EOT
}

build {
  sources = ["source.file.out"]
}
