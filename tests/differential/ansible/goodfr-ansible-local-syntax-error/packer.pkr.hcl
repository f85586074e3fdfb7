# Reduced: the original docker "myimg" source is replaced by a null source; the file is
# renamed from packer.hcl to packer.pkr.hcl (Packer reads only *.pkr.hcl as HCL).
source "null" "myimg" {
  communicator = "none"
}

build {
  sources = [
    "source.null.myimg"
  ]

  provisioner "ansible-local" {
    playbook_file   = "./playbook.yml"
    extra_arguments = ["--extra-vars", \"pizza_toppings=${var.topping}\""]
  }
}


