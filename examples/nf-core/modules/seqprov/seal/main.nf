process SEQPROV_SEAL {
    tag "${meta.id}"
    label 'process_medium'

    conda "${moduleDir}/environment.yml"
    container "${workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container
        ? 'https://depot.galaxyproject.org/singularity/seqprov:0.1.0--hdfd78af_0'
        : 'quay.io/biocontainers/seqprov:0.1.0--hdfd78af_0'}"

    input:
    tuple val(meta), path(dir)
    tuple val(meta2), path(derived_from)
    val step
    path key

    output:
    tuple val(meta), path("${prefix}.seqprov"), emit: bundle
    tuple val("${task.process}"), val('seqprov'), eval("seqprov --version | sed 's/seqprov //'"), emit: versions_seqprov, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    // The step text is single-quoted for the shell (a quote in it closes and reopens).
    def quoted_step = "'" + (step ?: '').toString().replace("'", "'\\''") + "'"
    def lineage = derived_from ? "--derived-from ${derived_from} --step ${quoted_step}" : ''
    if (derived_from && !step) {
        error "SEQPROV_SEAL: a derived-from bundle needs the step that derived the data"
    }
    """
    seqprov seal \\
        ${dir} \\
        --key ${key} \\
        --out ${prefix}.seqprov \\
        ${lineage} \\
        --quiet \\
        ${args}
    """

    stub:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    echo ${args}
    touch ${prefix}.seqprov
    """
}
