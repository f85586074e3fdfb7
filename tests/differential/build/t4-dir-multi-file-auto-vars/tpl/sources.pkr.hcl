source "file" "out" {
  target  = "out.txt"
  content = "${var.name} ${jsonencode(var.tags)} ${var.level} ${local.suffix}\n"
}
