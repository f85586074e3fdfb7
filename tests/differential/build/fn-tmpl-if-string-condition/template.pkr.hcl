source "file" "out" {
  target  = "out.txt"
  content = <<EOT
%{ if "true" }string-true%{ endif }
%{ if "false" }yes%{ else }string-false%{ endif }
${"true" ? "cond-true" : "cond-false"}
EOT
}

build {
  sources = ["source.file.out"]
}
