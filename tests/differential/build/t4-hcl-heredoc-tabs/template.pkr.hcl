source "file" "out" {
  target  = "out.txt"
  content = <<-EOT
		x
		  y

		z
	EOT
}
locals {
  mixed = <<-EOT
	  a
    b
  EOT
  plain = <<EOT
	tab kept
  EOT
}
source "file" "mixed" {
  target  = "mixed.txt"
  content = "${local.mixed}|${local.plain}|"
}
build {
  sources = ["source.file.out", "source.file.mixed"]
}
