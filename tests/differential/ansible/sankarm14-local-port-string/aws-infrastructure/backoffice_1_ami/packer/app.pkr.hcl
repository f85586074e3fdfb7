# Define variables for customization
variable "aws_region" {
  type    = string
  default = "us-east-1"
}

variable "ssh_username" {
  type    = string
  default = "ec2-user"
}

# Reduced: the original amazon-ebs "app" source (and its packer { required_plugins } block)
# is replaced by a null source.
source "null" "app" {
  communicator = "none"
}
build {
  sources = ["source.null.app"]
  
  provisioner "ansible" {
    playbook_file = "../../ansible/base.yaml"
    // groups = "staging"
    groups = ["dev"]
    user = "ec2-user"
    local_port = "22"
    use_proxy = false
    ansible_env_vars = ["ANSIBLE_ROLES_PATH=../../../../_ansible_common/roles"]
    extra_arguments    = ["--extra-vars", "my_variable=staging"]
  }

  post-processor "shell-local" {
    inline = ["echo Successfully Created"]
  }
}
