## Erreurs : pourquoi une demande est refusée.
error-title-empty = Le titre est vide. Dites en quelques mots ce qui ne va pas, par exemple « trop d'erreurs 500 ».
error-title-too-long = Le titre compte { $actual } caractères; limitez-le à { $max }. Mettez les détails dans la description.
error-title-no-letters = Le titre doit contenir au moins une lettre ou un chiffre pour nommer le canal de l'incident.
error-bad-channel-name = « { $value } » n'est pas un nom de canal valide : utilisez des minuscules, des chiffres, - et _, 80 caractères au plus.
error-bad-channel-template = Le modèle de canal « { $value } » n'est pas valide : il lui faut exactement un {"{"}slug{"}"}, il peut utiliser {"{"}date{"}"}, et sinon seulement des minuscules, des chiffres, - et _.
error-bad-incident-ref = « { $value } » ne désigne pas un incident. Utilisez INC-12, 12 ou l'identifiant de l'incident.
error-incident-not-found = Aucun incident { $value }. Lancez `muster incident list` pour voir les incidents.
error-unknown-severity = Gravité inconnue « { $value } ». Gravités valides : { $valid }.
error-unknown-status = Statut inconnu « { $value } ». Statuts valides : { $valid }.
error-unknown-role = Rôle inconnu « { $value } ». Rôles valides : { $valid }.
error-unknown-team = Équipe inconnue « { $value } ». Équipes valides : { $valid }.
error-transition-not-allowed = Un incident ne peut pas passer de « { $from } » à « { $to } ». Depuis « { $from } », il peut passer à : { $allowed }.
error-already-in-status = L'incident est déjà « { $value } ».
error-same-severity = L'incident est déjà { $value }.
error-empty-text = Le texte est vide. Écrivez quelque chose avant de l'envoyer.
error-text-too-long = Le texte compte { $actual } caractères; la limite est de { $max }.
error-unknown-action-type = Type de mesure inconnu « { $value } ». Types valides : { $valid }.
error-unknown-priority = Priorité inconnue « { $value } ». Utilisez P0, P1, P2 ou P3.
error-action-not-found = Cet incident n'a pas de mesure { $number }.
error-action-already-done = La mesure { $number } est déjà faite.
error-bad-time = « { $value } » n'est pas une heure que Muster comprend. Utilisez HH:MM (aujourd'hui, UTC), AAAA-MM-JJ HH:MM (UTC) ou le format RFC 3339, par exemple 2026-11-26T14:05:00-05:00.
error-bad-url = « { $value } » n'est pas un lien Web. Utilisez une adresse complète en http:// ou https://.
error-impact-out-of-order = L'impact ne peut pas être { $later } avant d'avoir { $earlier }. Vérifiez les heures.
error-nothing-to-change = Rien à modifier : donnez au moins une valeur.
error-unknown-language = Langue inconnue « { $value } ». Muster parle en et fr.

error-unknown-field = Champ de rapport inconnu « { $value } ». Champs valides : { $valid }.

## Erreurs de stockage.
store-error-database-locked = La base de données est verrouillée par un autre processus depuis 5 secondes. Rien n'a été modifié; réessayez et vérifiez qu'aucun processus muster n'est bloqué.
store-error-database-corrupt = Le fichier de base de données est endommagé ou n'est pas une base Muster. Rien n'a été modifié. Vérifiez le chemin dans MUSTER_DATABASE_URL ou la configuration, et restaurez une sauvegarde au besoin.
store-error-database-read-only = La base de données est en lecture seule. Rien n'a été modifié. Vérifiez les droits du fichier et le disque.
store-error-database-full = Le disque de la base de données est plein. Rien n'a été modifié. Libérez de l'espace et réessayez.
store-error-database-cannot-open = Impossible d'ouvrir la base de données : { $detail }. Vérifiez le chemin et ses droits.
store-error-conflict = L'incident a changé sans arrêt pendant le traitement de cette demande. Rien n'a été modifié; réessayez.
store-error-migration-failed = Le schéma de la base de données n'a pas pu être mis à jour : { $detail }
store-error-database-error = Erreur de base de données : { $detail }
report-template-error = Le modèle de rapport { $name } contient une erreur à la ligne { $line } : { $detail }

## Erreurs de configuration.
config-error-at = ligne { $line }, colonne { $column } : { $message }
config-error-syntax = { $detail }
config-error-duplicate = « { $value } » ({ $what }) est défini deux fois (les noms sont comparés sans tenir compte de la casse, des espaces, de - ni de _).
config-error-unknown-status = « { $value } » ne figure pas parmi les statuts de [[lifecycle.statuses]].
config-error-unknown-severity = « { $value } » ne figure pas parmi les gravités de [[severities]].
config-error-unknown-role = « { $value } » ne figure pas parmi les rôles de [[roles]].
config-error-empty = { $what } doit contenir au moins une entrée.
config-error-bad-template = le modèle de canal « { $value } » doit contenir exactement un {"{"}slug{"}"}, peut utiliser {"{"}date{"}"}, doit laisser de la place au titre dans 80 caractères, et sinon n'utiliser que des minuscules, des chiffres, - et _.
config-error-bad-url = « { $value } » n'est pas une adresse http:// ou https://.
config-error-bad-language = « { $value } » n'est pas une langue que Muster parle : utilisez « en » ou « fr ».

## Entrées de chronologie que Muster consigne.
timeline-declared = Incident déclaré : { $title } ({ $severity })
timeline-security-suffix = , signalé comme incident de sécurité
timeline-drill-suffix = , à titre d'exercice
timeline-channel-named = Canal de l'incident : #{ $name }
timeline-meeting-created = Salle de réunion ouverte : { $url }
timeline-role-assigned = { $person } est maintenant { $role }
timeline-status-changed = Statut changé de { $from } à { $to }
timeline-severity-changed = Gravité changée de { $from } à { $to }
timeline-status-update = Mise à jour : { $text }
timeline-action-added = Mesure { $number } ajoutée : { $text }
timeline-action-done = Mesure { $number } faite
timeline-impact-recorded = { $field } consigné(e) à { $at }
timeline-resolved = Incident résolu
timeline-closed = Incident fermé
timeline-edited = Modifié : { $fields }

impact-detected = Détection
impact-started = Début de l'impact
impact-mitigated = Atténuation
impact-ended = Fin de l'impact

field-title = titre
field-description = description
field-team = équipe
field-summary = résumé
field-impact_users = impact sur les utilisateurs finaux
field-impact_staff = impact sur le personnel
field-impact_partners = impact sur les organisations partenaires
field-impact_other = autre impact
field-trigger = déclencheur
field-detection = détection
field-resolution = résolution
field-root_causes = causes profondes
field-went_well = ce qui a bien fonctionné
field-went_wrong = ce qui a mal fonctionné
field-got_lucky = là où nous avons eu de la chance

action-type-investigate = Enquêter
action-type-mitigate = Atténuer
action-type-repair = Réparer
action-type-detect = Détecter
action-type-prevent = Prévenir

## Ligne de commande.
cli-declared = { $number } déclaré : { $title } ({ $severity }, { $status })
cli-declared-next = Ensuite : ouvrez la réunion, attribuez les rôles avec `muster incident role { $number } ops-lead NOM` et publiez des mises à jour avec `muster incident update { $number } "…"`.
cli-status-changed = { $number } est maintenant { $status }.
cli-severity-changed = { $number } est maintenant { $severity }.
cli-role-assigned = Rôles de { $number } : { $roles }.
cli-note-added = Note ajoutée à la chronologie de { $number }.
cli-update-posted = Mise à jour publiée sur { $number }.
cli-action-added = Mesure { $action } ajoutée à { $number }.
cli-action-done = Mesure marquée comme faite sur { $number }.
cli-impact-recorded = Heures d'impact consignées sur { $number }.
cli-edited = { $number } mis à jour.
cli-resolved = { $number } résolu; il est maintenant { $status }.
cli-closed = { $number } fermé.
cli-migrated = La base de données { $url } est à jour ({ $count } migrations appliquées maintenant).
cli-report-written = Rapport écrit dans { $path }.
cli-bad-format = Format inconnu « { $value } ». Utilisez md ou html.
cli-write-failed = Impossible d'écrire { $path } : { $detail }
cli-config-unreadable = Impossible de lire le fichier de configuration { $path } : { $detail }
cli-config-valid = { $path } est valide.
cli-template-unreadable = Impossible de lire le modèle de rapport { $path } : { $detail }
cli-list-empty = Aucun incident ne correspond.
cli-list-total = { $shown } incidents affichés sur { $total }.
cli-col-number = Numéro
cli-col-severity = Gravité
cli-col-status = Statut
cli-col-declared = Déclaré (UTC)
cli-col-title = Titre
cli-label-status = Statut
cli-label-severity = Gravité
cli-label-team = Équipe
cli-label-declared = Déclaré
cli-label-channel = Canal
cli-label-meeting = Réunion
cli-security-flag = Incident de sécurité : privé.
cli-drill-flag = Exercice : exclu des métriques.
cli-heading-roles = Rôles
cli-heading-impact = Impact
cli-heading-timeline = Chronologie
cli-heading-updates = Mises à jour
cli-heading-actions = Mesures à prendre
