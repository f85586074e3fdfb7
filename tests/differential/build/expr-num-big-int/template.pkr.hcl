source "file" "out" {
  content = <<EOT
big=${9007199254740993} ${18446744073709551616} ${123456789012345678901234567890}
bigmul=${9007199254740993 * 2} ${4294967296 * 4294967296}
bigadd=${9223372036854775807 + 1}
EOT
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
