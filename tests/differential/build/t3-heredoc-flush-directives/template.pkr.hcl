locals {
  pkgs = ["curl", "git"]
  opts = { b = "2", a = "1" }
}
source "file" "out" {
  target  = "out.txt"
  content = <<-EOT
    #!/bin/sh
    %{~ for p in local.pkgs }
      install ${p}
    %{~ endfor }
    %{ if length(local.pkgs) > 1 ~}
    many
    %{ else ~}
    few
    %{ endif ~}
    %{ for k, v in local.opts ~}
        ${k}: ${v}
    %{ endfor ~}
    done
    EOT
}
build {
  sources = ["source.file.out"]
}
