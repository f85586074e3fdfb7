locals {
  name = "world"
  plain = <<EOT
hello ${local.name}
  indented line
	tab line
EOT
  flush = <<-EOT
    hello ${local.name}
      two more
    back
    EOT
  flush_mixed = <<-EOT
      six
    four
        eight
  EOT
  empty = <<EOT
EOT
}
source "file" "out" {
  content = "[${local.plain}][${local.flush}][${local.flush_mixed}][${local.empty}]\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
