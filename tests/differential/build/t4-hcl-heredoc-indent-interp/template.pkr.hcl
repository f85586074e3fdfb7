locals {
  multi = "line1\n  line2"
  body  = <<-EOT
    start
      ${local.multi}
    %{ for x in ["a", "b"] }
      - ${x}
    %{ endfor }
    end
  EOT
}
source "file" "out" {
  target  = "out.txt"
  content = local.body
}
build {
  sources = ["source.file.out"]
}
