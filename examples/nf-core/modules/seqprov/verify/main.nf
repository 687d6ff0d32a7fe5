process SEQPROV_VERIFY {
    tag "${meta.id}"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "${workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container
        ? 'https://depot.galaxyproject.org/singularity/seqprov:0.1.0--hdfd78af_0'
        : 'quay.io/biocontainers/seqprov:0.1.0--hdfd78af_0'}"

    input:
    tuple val(meta), path(dir), path(bundle)
    tuple val(meta2), path(derived_from)
    path trust
    path policy

    output:
    tuple val(meta), path("${prefix}.verify.json"), emit: report
    tuple val(meta), path("${prefix}_mqc.json"), path("${prefix}_general_stats_mqc.json"), emit: multiqc
    tuple val("${task.process}"), val('seqprov'), eval("seqprov --version | sed 's/seqprov //'"), emit: versions_seqprov, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def trust_args = (trust instanceof List ? trust : [trust]).findAll { it }.collect { "--trust ${it}" }.join(' ')
    def policy_arg = policy ? "--policy ${policy}" : ''
    def lineage = derived_from ? "--derived-from ${derived_from} --require-lineage" : ''
    if (!trust_args && !policy_arg) {
        error "SEQPROV_VERIFY: give trusted public keys and/or a policy file"
    }
    """
    seqprov verify \\
        ${dir} \\
        --bundle ${bundle} \\
        ${trust_args} \\
        ${policy_arg} \\
        ${lineage} \\
        --json \\
        --multiqc ${prefix}_mqc.json \\
        --quiet \\
        ${args} \\
        > ${prefix}.verify.json
    """

    stub:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    echo ${args}
    echo '{"verdict": "verified", "exit_code": 0}' > ${prefix}.verify.json
    touch ${prefix}_mqc.json
    touch ${prefix}_general_stats_mqc.json
    """
}
