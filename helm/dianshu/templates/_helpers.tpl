{{- define "dianshu.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dianshu.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The image: repository@digest when a digest is given, else repository:tag. */}}
{{- define "dianshu.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end -}}

{{- define "dianshu.secretName" -}}
{{ required "secrets.existingSecret (the Secret holding the URLs and tokens) is required" .Values.secrets.existingSecret }}
{{- end -}}

{{- define "dianshu.jwksName" -}}
{{- if .Values.jwks.json -}}{{ include "dianshu.fullname" . }}-jwks{{- else -}}{{ required "jwks.existingConfigMap or jwks.json is required with RS256" .Values.jwks.existingConfigMap }}{{- end -}}
{{- end -}}

{{/* Environment shared by the API and the workers: the runtime role only, never the owner. */}}
{{- define "dianshu.runtimeEnv" -}}
- name: APP_DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: APP_DATABASE_URL}}
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: APP_DATABASE_URL}}
{{- if eq .Values.config.broker "rabbitmq" }}
- name: AMQP_URL
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: AMQP_URL}}
{{- else if eq .Values.config.broker "redis" }}
- name: REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: REDIS_URL}}
{{- else }}
{{- fail (printf "config.broker must be redis or rabbitmq, not %q" .Values.config.broker) }}
{{- end }}
- name: DIANSHU_JWT_SECRET
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: DIANSHU_JWT_SECRET, optional: true}}
- name: DIANSHU_PSN_KEY
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: DIANSHU_PSN_KEY}}
- name: DIANSHU_METRICS_TOKEN
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: DIANSHU_METRICS_TOKEN, optional: true}}
- name: DIANSHU_PORTAL_SESSION_SECRET
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: DIANSHU_PORTAL_SESSION_SECRET, optional: true}}
- name: DIANSHU_OIDC_CLIENT_SECRET
  valueFrom: {secretKeyRef: {name: {{ include "dianshu.secretName" . }}, key: DIANSHU_OIDC_CLIENT_SECRET, optional: true}}
{{- end -}}

{{/* Pod placement, shared by every pod. */}}
{{- define "dianshu.placement" -}}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A worker group's settings: the group's own keys over the worker defaults. */}}
{{- define "dianshu.workerGroups" -}}
{{- $groups := list -}}
{{- range .Values.worker.groups -}}
{{- $groups = append $groups (mergeOverwrite (deepCopy (omit $.Values.worker "groups")) (deepCopy .)) -}}
{{- end -}}
{{- toJson $groups -}}
{{- end -}}

{{/* Egress when restricted: DNS, then the configured destinations (database, broker, IdP). */}}
{{- define "dianshu.egress" -}}
- ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
{{ toYaml .Values.networkPolicy.egress }}
{{- end -}}
